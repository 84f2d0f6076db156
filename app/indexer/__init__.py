"""The read side: chain events into the database (`worker`), typed by `handlers`, watched by `alerts`."""
