USER username
