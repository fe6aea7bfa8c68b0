"""decree-bot: explains Russia's Decree No. 821 to the people it concerns."""
