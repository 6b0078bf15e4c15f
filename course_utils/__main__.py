"""``python -m course_utils COMMAND``: the instructor commands, kept under the package name the
README and older notes use. The tools themselves live beside this package, in course_tools;
``import course_utils`` never loads them."""

import sys

from course_tools.cli import main

sys.exit(main())
