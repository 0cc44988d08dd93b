a = '''abc

