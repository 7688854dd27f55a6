"""People's names and small text helpers shared by the puzzle families (ordering, seating, relations).

The module name starts with an underscore so the registry does not import it as a skill module.
"""

from __future__ import annotations

FEMALE = (
    "Ann", "Beth", "Cara", "Dana", "Eve", "Fay", "Gina", "Hana", "Iris", "Jane", "Kate", "Lena", "Mia",
    "Nora", "Olga", "Pia", "Rita", "Sara", "Tina", "Uma", "Vera", "Wanda", "Xena", "Yara", "Zoe", "Alice",
    "Bella", "Clara", "Diana", "Elsa", "Flora", "Grace", "Helen", "Ida", "Julia", "Laura", "Maria", "Nina",
    "Paula", "Ruth", "Sofia", "Tara", "Una", "Vicky", "Wendy", "Amy", "Chloe", "Emma", "Fiona", "Greta",
    "Hilda", "Irene", "Joan", "Lily", "Mona", "Nell", "Opal", "Petra", "Rosa", "Thea",
)  # fmt: skip
MALE = (
    "Adam", "Ben", "Carl", "Dan", "Eric", "Fred", "Gus", "Hugo", "Ivan", "Jack", "Karl", "Leo", "Max",
    "Ned", "Omar", "Paul", "Quinn", "Rob", "Sam", "Tom", "Vince", "Walt", "Xavi", "Yuri", "Zack", "Alan",
    "Bruno", "Colin", "David", "Edgar", "Felix", "Glen", "Henry", "Igor", "James", "Kevin", "Liam", "Mark",
    "Nick", "Oscar", "Peter", "Ralph", "Simon", "Theo", "Victor", "Wayne", "Boris", "Cyril", "Derek",
    "Emil", "Frank", "Gavin", "Harry", "Isaac", "Jonah", "Kurt", "Luke", "Miles", "Noel", "Otto",
)  # fmt: skip
NAMES = FEMALE + MALE


def ilog(x: int, base: int) -> int:
    """floor(log_base(x)) for x >= 1, exactly (no floating point)."""
    k = 0
    while x >= base:
        x //= base
        k += 1
    return k


def ordinal(k: int) -> str:
    """1 -> '1st', 12 -> '12th', 23 -> '23rd'."""
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def join_names(words: list[str]) -> str:
    """['Ann', 'Bob', 'Cid'] -> 'Ann, Bob and Cid'."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"
