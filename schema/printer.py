"""Print the SDL: `python -m schema.printer > schema.graphql` (what `make schema` runs)."""

from strawberry.printer import print_schema

from schema import build_schema


def sdl() -> str:
    return print_schema(build_schema()) + "\n"


if __name__ == "__main__":
    print(sdl(), end="")
