"""Card on file: one-use card links whose page saves a customer's card for later (contract §10)."""
