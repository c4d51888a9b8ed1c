"""The suite's tools in the order the agent sees them."""

from .read_tools import find_files, grep, list_dir, read_file
from .write_tools import delete, edit_file, make_dir, move, write_file

TOOLS = (list_dir, read_file, find_files, grep, write_file, edit_file, move, delete, make_dir)
