"""The document scanner: find the page in a photo, flatten it, true proportions, enhance."""
