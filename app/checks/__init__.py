"""One module per question the service answers; API, CLI and web all call these."""
