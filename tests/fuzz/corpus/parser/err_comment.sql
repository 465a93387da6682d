SELECT a /* never closed
