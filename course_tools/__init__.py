"""Instructor tooling for the course "Dropout in PyTorch", beside the student package.

``course_utils`` is what the chapters import; this package builds the course around it and is
never imported by it:

- ``chapters``: the chapter list and what each title cell says (title, goals, time);
- ``build``: execute every chapter and render it to HTML with an index (``make course``);
- ``student``: the student versions of the exercises, nbgrader-style (``make student``);
- ``exercises``: the exercise edition, ``notebooks/exercises/``, generated from the chapters with
  solutions: the student version with each solution folded under its exercise (``make
  exercises``);
- ``colab``: the repository and release (tag ``v`` + version) that the Colab badges and installs
  point at, from pyproject.toml;
- ``release``: point the whole course at that repository and release (``python -m course_utils
  badges``): badges, installs, README, and the editions regenerated;
- ``figures``: the README's figures, from the chapters' own settings (``make figures``);
- ``idx``: write MNIST-format files, for tests and benchmarks;
- ``cli``: the command line, ``python -m course_tools COMMAND`` (``python -m course_utils``
  runs the same).

It needs the ``instructor`` extra: ``pip install -e ".[instructor]"``.
"""
