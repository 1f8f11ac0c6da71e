RETR filename
