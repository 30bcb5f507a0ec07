"""Operations across machines: backing up and restoring jagadata's own database."""
