try:
    pass
except A as e:
    pass
except (B, C):
    pass
except:
    pass
else:
    pass
finally:
    pass
