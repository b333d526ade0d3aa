"""Comment trees as nested sets: how a tree is numbered, checked and repaired."""
