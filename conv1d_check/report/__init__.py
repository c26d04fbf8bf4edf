"""Everything that writes results for people or machines: terminal, JSON, JUnit."""
