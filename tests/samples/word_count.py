import sys
from collections import Counter


def top_words(path, limit=10):
    """Return the most common words of a text file."""
    with open(path, encoding="utf-8") as handle:
        words = handle.read().lower().split()
    return Counter(word.strip(".,;:!?") for word in words).most_common(limit)


if __name__ == "__main__":
    for word, count in top_words(sys.argv[1]):
        print(f"{count:6d} {word}")
