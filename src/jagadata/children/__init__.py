"""Children's consent given by a parent or guardian (UU PDP Art. 25): the guardian's contact
is verified with a one-time code before they consent or refuse on the child's behalf."""
