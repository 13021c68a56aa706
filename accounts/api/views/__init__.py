"""The account API, one module per subdomain; urls.py imports the views from here."""
