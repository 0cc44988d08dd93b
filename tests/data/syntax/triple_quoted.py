a = '''one
two''' """three
"""
