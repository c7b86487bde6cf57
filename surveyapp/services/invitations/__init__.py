"""Rating invitations: one per returned dossier with a contact, sent by Zalo ZNS, SMS or e-mail
outside quiet hours, retried on transient failures, honouring opt-outs; contacts erased when the
rating window closes."""
