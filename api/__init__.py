"""HTTP edge of CCMS: the ASGI app, settings, authentication and routes besides /graphql."""
