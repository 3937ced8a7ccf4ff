"""Shell completion: the script generator and the fast `glm __complete` values."""
