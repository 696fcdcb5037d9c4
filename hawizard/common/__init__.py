"""Small pieces every layer uses: errors, shell quoting, terminal text, local files."""
