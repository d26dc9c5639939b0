"""DEBT103 interactive_display_in_package: focused tests beyond the examples the rule carries."""

from __future__ import annotations

import textwrap

from rules.catalogue import rules_by_code
from rules.engine.analyse import analyse_source
from rules.engine.config import default_config, parse_config

PACKAGE = ("churn/__init__.py",)


def findings(source: str, path: str = "churn/plots.py", files=PACKAGE, options=None):
    rule = rules_by_code()["DEBT103"]
    config = parse_config({"rules": {"DEBT103": options}}) if options else default_config()
    text = textwrap.dedent(source).lstrip("\n")
    result = analyse_source(path, text.encode(), config, [rule], {path, *files})
    assert not result.skipped, result.skipped
    return [(f.line, f.message) for f in result.findings]


SHOW = """
    import matplotlib.pyplot as plt


    def plot_loss(history):
        plt.plot(history["loss"])
        plt.show()
"""


def test_only_modules_of_an_importable_package() -> None:
    assert [line for line, _ in findings(SHOW)] == [6]
    assert findings(SHOW, path="churn/plots.py", files=()) == []
    assert findings(SHOW, path="plots.py", files=("__init__.py",)) == []
    assert findings(SHOW, path="churn/tests/test_plots.py", files=PACKAGE) == []
    assert findings(SHOW, path="churn/__main__.py", files=PACKAGE) == []


def test_exempt_folders_option() -> None:
    files = ("analysis/__init__.py",)
    assert findings(SHOW, path="analysis/plots.py", files=files)
    options = {"exempt-folders": ["analysis"]}
    assert findings(SHOW, path="analysis/plots.py", files=files, options=options) == []
    assert findings(SHOW, path="examples/plots.py", files=("examples/__init__.py",)) == []
    assert findings(
        SHOW, path="examples/plots.py", files=("examples/__init__.py",), options=options
    )


def test_message_names_the_call_and_the_alternative() -> None:
    [(_, message)] = findings(SHOW)
    assert "`plt.show()`" in message
    assert "returning the figure" in message


def test_outer_parameter_guards_a_closure() -> None:
    source = """
        import matplotlib.pyplot as plt


        def plot_model(model, save=False, system=True):
            def lift():
                plt.plot(model.lift_)
                if save:
                    plt.savefig("lift.png")
                elif system:
                    plt.show()

            lift()
    """
    assert findings(source) == []


def test_only_the_innermost_condition_may_be_any_parameter() -> None:
    source = """
        class HubLogger:
            def init_experiment(self, setup=True):
                if setup:
                    if not self.repo_name:
                        self.repo_name = input("Repository: ")
    """
    assert [line for line, _ in findings(source)] == [5]


def test_figures_are_known_by_what_built_them() -> None:
    source = """
        import matplotlib.pyplot as plt
        import plotly.express as px


        def forecast_plot(frame):
            px.line(frame, x="date", y="sales").update_layout(title="Sales").show()


        def residuals(frame):
            fig, ax = plt.subplots()
            ax.scatter(frame.y, frame.residual)
            fig.show()


        def other(fig):
            fig.show()
    """
    assert [line for line, _ in findings(source)] == [6, 12]


def test_input_shadowed_or_in_a_command_line_module() -> None:
    shadowed = """
        def encode(model, input):
            return model(input())
    """
    assert findings(shadowed) == []
    cli = """
        import click


        @click.command()
        def reset():
            if input("Really? ") == "y":
                drop_tables()
    """
    assert findings(cli) == []
    plain = """
        def reset():
            if input("Really? ") == "y":
                drop_tables()
    """
    assert [line for line, _ in findings(plain)] == [2]


def test_environment_checks_and_showing_functions() -> None:
    source = """
        import cv2
        from IPython.display import display


        def predict(model, image, cfg):
            boxes = model(image)
            if cfg.visualize:
                cv2.imshow("boxes", image)
            if is_notebook():
                display(boxes)
            return boxes


        def check_imshow():
            cv2.imshow("test", image)


        def _repr_html_(self):
            display(self.frame)
    """
    assert findings(source) == []


def test_main_block_is_exempt_even_in_a_function_defined_there() -> None:
    source = """
        import matplotlib.pyplot as plt

        if __name__ == "__main__":

            def demo():
                plt.plot([1, 2, 3])
                plt.show()

            demo()
            plt.show()
    """
    assert findings(source) == []


def test_images_and_sample_data() -> None:
    source = """
        import plotly.express as px
        from PIL import Image


        def load_image(path):
            Image.open(path).convert("RGB").show()
            Image.open(path).show()
            iris = px.data.iris()
            iris.show()
    """
    [(line, message)] = findings(source)
    assert line == 7
    assert "returning the image" in message


def test_a_condition_on_the_data_is_not_a_choice_to_show() -> None:
    source = """
        import matplotlib.pyplot as plt


        def plot_values(values, outpath=None):
            plt.plot(values)
            if outpath is not None:
                plt.savefig(outpath)
            else:
                plt.show()
            if len(values.shape) == 2:
                plt.show()
    """
    assert [line for line, _ in findings(source)] == [11]


def test_a_folder_one_of_whose_words_is_exempt_is_exempt() -> None:
    files = ("util_scripts/__init__.py",)
    assert findings(SHOW, path="util_scripts/plots.py", files=files) == []
    files = ("churn/plotting/__init__.py",)
    assert len(findings(SHOW, path="churn/plotting/plots.py", files=files)) == 1


def test_code_that_runs_as_a_script_is_left_alone() -> None:
    module_level = """
    import matplotlib.pyplot as plt

    plt.hist(radii, bins=50)
    plt.savefig("radii.png")
    plt.show()
    """
    looping = """
    import matplotlib.pyplot as plt

    def animate(frames):
        plt.imshow(frames[0])
        plt.show()

    for patient in range(60, 417):
        animate(load(patient))
    """
    assert findings(module_level) == []
    assert findings(looping) == []


def test_display_writing_a_record_for_a_tool_is_not_showing() -> None:
    source = """
    from IPython.display import display

    def store_metadata(name, value):
        display({"application/json": {name: value}}, metadata={"name": name}, raw=True)

    def show_table(frame):
        display(frame)
    """
    assert [line for line, _ in findings(source)] == []
    shown = """
    from IPython.display import display

    def report(frame):
        display(frame.describe())
    """
    assert [line for line, _ in findings(shown)] == [4]
