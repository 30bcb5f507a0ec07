"""Notifications through a transactional outbox: email (SMTP), WhatsApp (Cloud API), webhooks."""
