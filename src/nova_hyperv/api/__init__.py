"""Extensions of Nova's API, loaded by nova-api through entry points."""
