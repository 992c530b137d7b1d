"""The web app units and the 专班 answer through (`fuquan web`)."""
