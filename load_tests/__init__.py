"""load_tests."""
