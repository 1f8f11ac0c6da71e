ÿôÿòABOR
