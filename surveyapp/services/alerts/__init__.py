"""Officials' alerts: subscriptions per unit (subscriptions), the events found by the queue's
periodic scan (events), and the debounced e-mails and digests (mailing)."""
