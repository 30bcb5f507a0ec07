"""The admin console at /admin/: the shell where an organisation's staff work (Jinja2 + HTMX,
no build step), its home dashboard, manifest and policies, people and keys, audit log and
outbox. Later features add their pages to `nav.SECTIONS` and their routers to `views.router`."""
