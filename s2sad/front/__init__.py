"""From the user's function to the IR: parse, lower (the fence), aliasing and the checks on writes."""
