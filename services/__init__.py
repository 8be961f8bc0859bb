"""The business of CCMS. Services take plain values and the acting user; they never import strawberry."""
