"""Side tables over the IR: activity, what reverse mode records, shape classes."""
