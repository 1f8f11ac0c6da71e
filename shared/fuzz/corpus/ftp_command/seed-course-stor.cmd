STOR filename
