"""How units answer back: the answers policy and its rules, signed links, what an upload is."""
