"""k-gram hashing, winnowing and the keyed (HMAC) mode."""
