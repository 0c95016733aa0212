"""Who may see and do what: the jurisdiction rule, masking, the security manager, sign-in rules, rate limits, headers."""
