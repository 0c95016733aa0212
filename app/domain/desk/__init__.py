"""Each role's desk: what waits for the signed-in user (to-do items with counts), the inbox of
in-site messages, and the word staff get when work enters their jurisdiction."""
