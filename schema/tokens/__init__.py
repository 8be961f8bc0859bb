"""API tokens for BI tools and meter gateways."""
