PASS password
