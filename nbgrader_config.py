"""nbgrader settings for this course. Copy this file into your nbgrader course folder, the one
that holds source/, and run nbgrader there (the README's "With nbgrader" section walks through
the whole loop). CI runs that loop with this file: tests/test_nbgrader_loop.py.
"""

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

c = get_config()  # noqa: F821  (nbgrader provides get_config when it reads this file)

c.CourseDirectory.course_id = "dropout-course"

# Autograding runs every chapter top to bottom. nbgrader's default is 30 s per cell; in fast mode
# (COURSE_FAST=1, see the README) no cell takes more than about 20 s on a 2-core CPU, but a busy
# grading machine running several kernels can be several times slower.
c.Execute.timeout = 300

# Feedback goes back to students. Autograding restores the hidden tests that the release
# removed, so without ClearHiddenTests the feedback HTML would show them, markers and all.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
