using System.Text.Json.Nodes;

namespace RdBridge.Metadata;

/// <summary>The dataset a model was trained on: Qlib's dataset class, its handler and the train/valid/test segments.</summary>
public sealed record DatasetConfig(string? Class, string? ModulePath, string? Handler, JsonNode? Segments)
{
    public JsonObject ToJson() => new()
    {
        ["class"] = Class,
        ["module_path"] = ModulePath,
        ["handler"] = Handler,
        ["segments"] = MetadataJson.Copy(Segments),
    };

    public static DatasetConfig? From(JsonNode? node) => node is JsonObject o
        ? new DatasetConfig(MetadataJson.Text(o["class"]), MetadataJson.Text(o["module_path"]),
            MetadataJson.Text(o["handler"]), MetadataJson.Copy(o["segments"]))
        : null;
}

/// <summary>The handler's processors as the config lists them (inference and learning).</summary>
public sealed record PreprocessConfig(JsonNode? InferProcessors, JsonNode? LearnProcessors)
{
    public JsonObject ToJson() => new()
    {
        ["infer_processors"] = MetadataJson.Copy(InferProcessors),
        ["learn_processors"] = MetadataJson.Copy(LearnProcessors),
    };

    public static PreprocessConfig? From(JsonNode? node) => node is JsonObject o
        ? new PreprocessConfig(MetadataJson.Copy(o["infer_processors"]), MetadataJson.Copy(o["learn_processors"]))
        : null;
}

/// <summary>The features the model receives: the base features by name, and whether generated factors are added.</summary>
public sealed record FeatureSchema(IReadOnlyList<string> BaseFeatures, bool LoadsGeneratedFactors)
{
    public JsonObject ToJson() => new()
    {
        ["base_features"] = MetadataJson.TextArray(BaseFeatures),
        ["loads_generated_factors"] = LoadsGeneratedFactors,
    };

    public static FeatureSchema? From(JsonNode? node) => node is JsonObject o
        ? new FeatureSchema(MetadataJson.Texts(o["base_features"]), MetadataJson.Bool(o["loads_generated_factors"]) ?? false)
        : null;
}

/// <summary>Where the trained model is: weights files (relative to the workspace), the MLflow store, the model code.</summary>
public sealed record ModelArtifacts(IReadOnlyList<string> ModelFiles, string? MlRuns, string? ModelCode)
{
    public JsonObject ToJson() => new()
    {
        ["model_files"] = MetadataJson.TextArray(ModelFiles),
        ["mlruns"] = MlRuns,
        ["model_code"] = ModelCode,
    };

    public static ModelArtifacts? From(JsonNode? node) => node is JsonObject o
        ? new ModelArtifacts(MetadataJson.Texts(o["model_files"]), MetadataJson.Text(o["mlruns"]),
            MetadataJson.Text(o["model_code"]))
        : null;
}

/// <summary><c>model_meta.json</c>: the model a loop trained, with what it was trained on and where its weights are.</summary>
public sealed record ModelMetaFile(
    MetadataOrigin Origin, string? ConfigFile, string? ModelType, string? ModelModule, JsonNode? ModelConfig,
    string? NetworkClass, DatasetConfig? DatasetConfig, PreprocessConfig? PreprocessConfig,
    FeatureSchema? FeatureSchema, ModelArtifacts? ModelArtifacts)
{
    public const string FileName = "model_meta.json";

    public JsonObject ToJson()
    {
        var o = Origin.NewObject();
        o["config_file"] = ConfigFile;
        o["model_type"] = ModelType;
        o["model_module"] = ModelModule;
        o["model_config"] = MetadataJson.Copy(ModelConfig);
        o["network_class"] = NetworkClass;
        o["dataset_config"] = DatasetConfig?.ToJson();
        o["preprocess_config"] = PreprocessConfig?.ToJson();
        o["feature_schema"] = FeatureSchema?.ToJson();
        o["model_artifacts"] = ModelArtifacts?.ToJson();
        return o;
    }

    public static ModelMetaFile From(JsonObject o) => new(MetadataOrigin.From(o), MetadataJson.Text(o["config_file"]),
        MetadataJson.Text(o["model_type"]), MetadataJson.Text(o["model_module"]), MetadataJson.Copy(o["model_config"]),
        MetadataJson.Text(o["network_class"]), DatasetConfig.From(o["dataset_config"]),
        PreprocessConfig.From(o["preprocess_config"]), FeatureSchema.From(o["feature_schema"]),
        ModelArtifacts.From(o["model_artifacts"]));

    public static ModelMetaFile Read(string path) => From(MetadataJson.ReadObject(path));
}
