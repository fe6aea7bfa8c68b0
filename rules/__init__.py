"""Pure rules core for Decree No. 821 (5 November 2025)."""
