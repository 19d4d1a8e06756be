"""One module per bot conversation; botapp.handlers routes each button and message to them."""
