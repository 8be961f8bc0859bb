"""Background jobs: the dramatiq broker and thin actors that call services/."""
