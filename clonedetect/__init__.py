"""clonedetect."""
