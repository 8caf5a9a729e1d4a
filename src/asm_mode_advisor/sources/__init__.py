"""Sources turn input (files, stdin, a live cluster) into Resources."""
