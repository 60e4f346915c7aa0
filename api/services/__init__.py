"""The brokerage logic. Services own transactions; routes only call them."""
