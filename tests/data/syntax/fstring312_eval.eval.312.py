f"{x=}" "tail"
