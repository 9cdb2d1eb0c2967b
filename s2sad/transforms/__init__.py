"""IR to derivative IR: forward and reverse mode, their shared parts, calls to user functions, the vjp split."""
