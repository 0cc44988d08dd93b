a = '\N{NO SUCH NAME}'
