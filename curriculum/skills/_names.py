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
# more of each, for puzzles that need many people at once (large family trees beside a second family)
FEMALE_MORE = (
    "Ada", "Bea", "Cleo", "Dora", "Edna", "Faye", "Gwen", "Hope", "Isla", "June", "Kira", "Lola", "Mabel",
    "Nadia", "Olive", "Pearl", "Rhea", "Stella", "Tess", "Ursula", "Violet", "Willa", "Yvonne", "Zelda", "Agnes",
    "Beryl", "Celia", "Daisy", "Esther", "Freya", "Gloria", "Hazel", "Ivy", "Jodie", "Kelly", "Lucy", "Marta",
    "Noor", "Orla", "Phoebe", "Queenie", "Ruby", "Selma", "Trudy", "Uta", "Vanessa", "Wilma", "Xenia", "Yasmin",
    "Zara", "Alma", "Bonnie", "Carmen", "Delia", "Erin", "Frida", "Gemma", "Hattie", "Inga", "Judith",
)  # fmt: skip
MALE_MORE = (
    "Abel", "Basil", "Cedric", "Dexter", "Elliot", "Floyd", "Gordon", "Hector", "Ira", "Jasper", "Keith", "Lionel",
    "Magnus", "Nigel", "Orson", "Percy", "Rufus", "Stefan", "Tobias", "Ulrich", "Vernon", "Warren", "Xander",
    "Yusuf", "Zeno", "Arthur", "Bernard", "Casper", "Dennis", "Ernest", "Fabian", "Gilbert", "Horace", "Ingo",
    "Jerome", "Kenneth", "Lorenzo", "Martin", "Nathan", "Oliver", "Philip", "Roland", "Silas", "Trevor", "Upton",
    "Vito", "Wilbur", "Yannick", "Zoltan", "Alfred", "Barney", "Clive", "Duncan", "Emmett", "Fergus", "Grant",
    "Howard", "Ivor", "Jules", "Lars",
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
